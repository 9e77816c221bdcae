"""What every model shares: settings, the SIDS list, errors and the dataset store."""
