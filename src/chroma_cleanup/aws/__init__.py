"""boto3 adapters: they paginate, keep within the service limits and raise our own errors."""
