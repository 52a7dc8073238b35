"""Cases in the graph: one matter's documents from the department's decision through transfer,
answers, judgment and enforcement, its deadlines, court documents from outside, typical cases."""
