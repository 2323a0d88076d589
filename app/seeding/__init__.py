"""Generated data for trying the service at scale (`nrm seed scale`); never in production."""
