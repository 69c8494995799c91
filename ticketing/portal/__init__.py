"""The customer portal: complain without an account, then follow the case by a private link."""
