"""The support team's web desk: server-rendered pages for coordinators (the case queue, the
rota, the statistics) and each expert's calendar feed."""
