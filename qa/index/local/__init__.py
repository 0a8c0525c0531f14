"""The local store: one committed build's files (FAISS, bm25s arrays, JSON) under the index folder, its reader and its writer."""
