"""The upload function: turns an original photo in the uploads bucket into web derivatives."""
