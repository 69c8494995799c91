"""The domain: cases, their six handling steps and the record log. No HTTP here."""
