"""The Streamlit side the pages share: the model picker, training forms, examples, routing, words.

models     the sidebar's model picker, the cached model loader, LoadedModel
forms      the training forms' widgets (Train and Compare) -> a TrainSpec
examples   the held-out example pictures, cached; Home's "Try it"
routing    page paths, and the one workaround that relies on Streamlit's internals
text       every sentence the pages make from the library's names and numbers
"""
