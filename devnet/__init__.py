"""A single-node Hyperledger Fabric peer and orderer speaking the real Gateway and chaincode shim protocols."""
