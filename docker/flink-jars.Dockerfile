# The jars `make jars` fetched and built (Kafka connector, Parquet, Hadoop classes, our functions),
# for the Kubernetes manifests: an init container copies /jars/*.jar into Flink's lib/
# (`jobs.py manifests --jars-image`, docs/scale-out.md). Build from the repository root:
#   make jars && docker build -f docker/flink-jars.Dockerfile -t REGISTRY/clickstream-jars:0.1.0 .
FROM busybox:1.37
COPY .stack/jars/flink/ /jars/
