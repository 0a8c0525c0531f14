"""Measuring it: question sets, ranking metrics, ``qa eval`` reports and charts, ``qa bench``."""
