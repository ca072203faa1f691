"""Salesforce's Pub/Sub API (``eventbus.v1``): ``pubsub_api.proto`` as Salesforce publishes it
(forcedotcom/pub-sub-api, CC0: LICENSE-forcedotcom-pub-sub-api.txt) and the modules grpcio-tools
generates from it (``scripts/gen-pubsub-stubs.sh``; a test keeps them from drifting).

Importing this package needs the ``salesforce-cdc`` extra (grpcio, protobuf).
"""
