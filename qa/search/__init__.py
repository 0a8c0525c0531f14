"""Index → hits: dense and BM25 retrieval, fusion, place scoping, the answer span of each passage."""
