"""Transfer Learning Lab: the router. Each page lives in pages/ and runs on its own."""

import streamlit as st

st.set_page_config(page_title="Transfer Learning Lab", page_icon="🌼", layout="wide")

pages = [
    st.Page("pages/concept.py", title="Concept", icon="💡", default=True),
    st.Page("pages/compare.py", title="Compare base models", icon="⚖️"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/predict.py", title="Predict", icon="📷"),
    st.Page("pages/quiz.py", title="Quiz", icon="📝"),
]
st.navigation(pages).run()
