import { useEffect, useLayoutEffect, useRef, type RefObject } from 'react'

// useLayoutEffect warns during server rendering in React 18; there is nothing to update there anyway.
const useIsomorphicLayoutEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect

/** A ref that always holds the value of the last committed render, so callbacks never go stale. */
export function useLatest<T>(value: T): RefObject<T> {
  const ref = useRef(value)
  useIsomorphicLayoutEffect(() => {
    ref.current = value
  })
  return ref
}
