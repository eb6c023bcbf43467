"""Pure figure builders: data in, a plotly Figure out; one module per page, one shared style."""
