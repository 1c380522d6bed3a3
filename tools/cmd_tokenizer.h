/* tools/cmd_tokenizer.h — `heft tokenizer`: train a byte-level BPE, and encode
 * or decode text with any tokenizer heft reads. */
#ifndef HEFT_TOOLS_CMD_TOKENIZER_H
#define HEFT_TOOLS_CMD_TOKENIZER_H

int cmd_tokenizer(int argc, char **argv);

#endif
