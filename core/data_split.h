/* core/data_split.h — the two splits of a dataset. */
#ifndef HEFT_CORE_DATA_SPLIT_H
#define HEFT_CORE_DATA_SPLIT_H

enum data_split { DATA_TRAIN = 0, DATA_VAL = 1, DATA_NUM_SPLITS = 2 };

static inline const char *data_split_name(enum data_split s)
{
    return s == DATA_TRAIN ? "train" : "val";
}

#endif
