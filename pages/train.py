"""Placeholder while the page is being built."""

import streamlit as st

st.title("train")
st.info("This page is being built.")
