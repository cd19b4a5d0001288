"""The web app layer: the only package that imports streamlit (with views/), sign-in and the server gate."""
