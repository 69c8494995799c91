"""The domain: cases, their six handling steps and their rules, the action registry, the record log,
deadlines and reminder rows, win-back and early warnings. No HTTP here."""
