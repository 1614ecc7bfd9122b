"""bptt_viz: the presentation layer. Everything the user sees, built without Streamlit.

Notations and labels, the equations of each step (LaTeX and MathML), Plotly and SVG figures, chart
preparation, and the view model of each page: arrays and traces from ``bptt_core`` in, figures,
strings and plain data out. Usable from a notebook: every figure is a plain ``go.Figure``.
"""
