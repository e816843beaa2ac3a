"""The course's mentoring programme: who mentors whom (caseloads), and what mentors may see."""
