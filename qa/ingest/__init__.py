"""Documents → chunks: reading a corpus folder, laying out newspaper pages, cutting citable paragraphs."""
