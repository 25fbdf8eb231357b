"""Evaluation of a grid-to-tokens model on a token cache's windows (`drumgrid eval`): which
windows (windows.py), how each row renders them (render.py), each window's typed scores
(scores.py), how windows pool per kit and tempo band (pooling.py), the pipeline (run.py) and
what it writes (report.py, plots.py)."""
