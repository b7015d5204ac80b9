export {
  accessTokenHash,
  type CheckedProof,
  checkDpopProof,
  contentDigest,
  DPOP_ALGORITHMS,
  DpopProofError,
  type DpopProofOptions,
  memoryReplayCache,
  type NonceSource,
  type ProofRequest,
  type ReplayCache,
  rotatingNonces,
} from '../lambdas/core/tokens/dpop-proof.js';
export { type Refusal, refusal } from './challenges.js';
export {
  type GuardOptions,
  type McpAuthInfo,
  mcpAuthInfo,
  nodeGuard,
  nodeMetadataHandler,
} from './node-middleware.js';
export {
  type MetadataOptions,
  metadataResponse,
  metadataUrl,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
} from './protected-resource-metadata.js';
export {
  type AccessTokenIdentity,
  createVerifier,
  ResourceError,
  type ResourceErrorCode,
  type ResourceRequest,
  type Verifier,
  type VerifierOptions,
  type VerifyOptions,
} from './verifier.js';
