"""The corpus of student submissions that the grading tests run through nbgrader."""
