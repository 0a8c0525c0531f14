"""Answer → HTTP: the FastAPI app (/api, /v1, the chat page), its guards, the documents API, the live engine."""
