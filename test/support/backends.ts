// The backend × allocator matrix the cross-backend tests run over, read from ALLOCATORS so that a
// new allocator is tested everywhere as soon as a backend lists it.
import { ALLOCATORS, type AllocatorName, type BackendName } from '../../lib/index';

export interface BackendUnderTest {
  backend: BackendName;
  allocator: AllocatorName;
  /** "zcache/zsmalloc", for test titles. */
  label: string;
}

export const backendsUnderTest: BackendUnderTest[] = (Object.keys(ALLOCATORS) as BackendName[]).flatMap((backend) =>
  ALLOCATORS[backend].map((allocator) => ({ backend, allocator, label: `${backend}/${allocator}` })),
);
