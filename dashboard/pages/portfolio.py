"""stub"""
import streamlit as st

st.title("portfolio")
