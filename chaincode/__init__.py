"""The GX chaincode: the ledger's business rules on fabric-chaincode-python, run as a service."""
