"""Bib numbers in photos: PP-OCR text detection + recognition (ONNX on CPU), no I/O but the models.

Shipped in the faces Lambda layer (template.yaml: FacesLayer) next to `facerec`, used by the
index function. Only onnxruntime, NumPy and Pillow: RapidOCR's own pipeline needs OpenCV
(~150 MB unpacked), which would not fit the layer next to onnxruntime, so the pre- and
post-processing around the two PP-OCR models is done here.

    pipeline   image -> bibs (number-like tokens with confidence and box)
    detect     DB text detection: probability map -> rotated boxes
    recognize  CTC text recognition of one box, restricted to letters and digits
    tokens     which recognised text counts as a bib number (pure)
    models     the two ONNX sessions, loaded once per process
"""
