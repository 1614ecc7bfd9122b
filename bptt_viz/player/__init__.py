"""The browser stepper's view model: everything the "Step through BPTT" page shows at every step
of a pass, prepared once in Python and sent to the browser, which only swaps what is shown.

The payload (``build_payload``) is plain JSON: ``{"pass_id", "n", "labels", "phase", "panels"}``.
Each panel is static markup (HTML or SVG drawn here) plus what changes from step to step, in three
forms the browser applies to the marked elements (see ``bptt_app/assets/step_player.js``):

``codes``   a string of one-letter state codes per step, character i for the element marked
            ``data-i="i"`` (CSS in the page maps ``[data-c=…]`` to colours, widths, visibility);
``values``  float32 numbers per step (base64), entry j for the element ``data-v="j"``, drawn with
            the diverging palette over the range ``ranges[data-r]`` (fill, or stroke for lines);
``slots``   HTML per step for the element ``data-slot="name"`` (status, equations, ledger rows).

Repeated states are sent once: each form is a table of distinct entries plus an index per step.
No maths happens in the browser; nothing in this package imports Streamlit.
"""
