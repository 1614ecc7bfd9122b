"""View models of the "Truncation & vanishing gradients" page, one module per section.

No Streamlit: each module holds a frozen dataclass of everything one section shows (numbers,
sentences in Markdown with inline KaTeX, LaTeX display equations, Plotly figures, tables) and the
function that builds it from the engine's results. The page only renders these.

- ``controls``: the page's truncation and spectral-radius controls, and what a k keeps;
- ``summary``: the network's ρ, σ_max, γ and the Pascanu verdict;
- ``flow_map``: section 1, the T × T map of ‖∂L(t)/∂a(τ)‖;
- ``truncated_gradient``: section 2, the truncated gradient against the full one;
- ``jacobians``: section 3, ‖∂h(t)/∂h(τ)‖ against the distance, with the bound;
- ``clipping``: section 4, norm against value clipping;
- ``learning``: section 5, the recall task and "hello" with k = 1.
"""
