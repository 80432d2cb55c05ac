"""Face detection, landmarks, alignment and embeddings (ONNX models on CPU), no I/O but the models.

Shipped in the faces Lambda layer (template.yaml: FacesLayer) and used by the face-index
function (every face of a photo) and the photos function (the one face of a selfie).

    pipeline    image bytes -> upright image -> faces (box, score, unit 512-D embedding)
    detect      UltraFace boxes;  landmarks  68 points;  align  ArcFace 112x112;  embed  the vector
    models      the three ONNX sessions, loaded once per process
    errors      why an image gives no usable face (API errors, 4xx)
"""
