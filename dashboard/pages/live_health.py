"""stub"""
import streamlit as st

st.title("live_health")
