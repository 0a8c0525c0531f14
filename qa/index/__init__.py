"""Chunks → index: building a committed build, and the stores search reads (local files or Milvus) behind one protocol."""
