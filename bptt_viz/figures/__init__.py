"""Figure builders: arrays and traces in, Plotly figures or SVG strings out."""
