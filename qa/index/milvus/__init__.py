"""The Milvus store: collections and manifest row, search over them, and the writer. Needs the ``milvus`` extra."""
