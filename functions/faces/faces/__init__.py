"""The face-index function's package: photo-ready notices -> faces stored through the photo sidecar.

Detection and embeddings come from the `facerec` library (the faces layer); search lives in the sidecar.
"""
