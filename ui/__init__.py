"""View helpers shared by pages: plotly figures and small Streamlit pieces (no TensorFlow)."""
