"""Time: the one injectable clock, deadline policy, reminders and the dispatcher."""
