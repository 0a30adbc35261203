"""The index: embedding chunks, keeping generations of them in Chroma, and building a new one atomically."""
