"""Chinese text tools shared by indexing and search: jieba segmentation, question normalisation, pinyin, answer types."""
