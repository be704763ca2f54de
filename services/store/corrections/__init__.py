"""Analyst corrections: the rules that fold them into final values, the API that takes them, their audit."""
