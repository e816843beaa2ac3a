"""Who and where: platforms, deployments, courses, people and their memberships."""
