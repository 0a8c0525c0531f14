"""Hits → answer: follow-ups, abstention, quoted sentences, and optional LLM answers verified sentence by sentence."""
