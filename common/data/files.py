"""The names of the dataset's three files: the one place that states them."""

DATA_FILE = "indicatorData.csv"
INDICATOR_META_FILE = "indicatorMeta.csv"
DATASET_META_FILE = "datasetMeta.csv"
DATASET_FILES = (DATA_FILE, INDICATOR_META_FILE, DATASET_META_FILE)
