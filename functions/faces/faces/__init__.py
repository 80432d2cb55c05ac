"""Face detection, embeddings and per-event vector search (ONNX models on CPU)."""
