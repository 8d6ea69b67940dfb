import type { AnyContract, ProcedureDef, EventDef, TopicDef } from './define-contract.js'
import type { InferIn, InferOut } from './schema.js'

type Procs<V> = V extends { clientToServer: infer P } ? P : {}
type Msgs<V> = V extends { serverToClient: infer M } ? M : {}

// Name unions are written `Extract<keyof … & string, string>`: for a concrete contract TypeScript
// evaluates that to a bare union, so a compile error reads `not assignable to '"message" | "dm"'`
// instead of naming the alias with the whole contract as its argument (`EventName<Contract<{ …
// ZodObject …`), as `keyof … & string` alone would. The inner `& string` keeps them strings (not
// symbols) in generic code, e.g. in template literals.
type EventNames<M> = Extract<keyof { [K in keyof M as M[K] extends { subscribe: true } ? never : K]: 0 } & string, string>
type TopicNames<M> = Extract<keyof { [K in keyof M as M[K] extends { subscribe: true } ? K : never]: 0 } & string, string>

/** The role names of a contract. */
export type RoleOf<C extends AnyContract> = Extract<keyof C['roles'] & string, string>

/** name → ProcedureDef for a role: its own procedures plus shared ones. */
export type ProceduresOf<C extends AnyContract, R extends RoleOf<C>> = Procs<C['shared']> & Procs<C['roles'][R]>
/** name → Event/TopicDef the server may send to a role. */
export type MessagesOf<C extends AnyContract, R extends RoleOf<C>> = Msgs<C['shared']> & Msgs<C['roles'][R]>

export type ProcedureName<C extends AnyContract, R extends RoleOf<C>> = Extract<keyof ProceduresOf<C, R> & string, string>
export type EventName<C extends AnyContract, R extends RoleOf<C>> = EventNames<MessagesOf<C, R>>
export type TopicName<C extends AnyContract, R extends RoleOf<C>> = TopicNames<MessagesOf<C, R>>

/** Events every role understands: the only ones a mixed-role room may broadcast. */
export type SharedEventName<C extends AnyContract> = EventNames<Msgs<C['shared']>>
export type SharedTopicName<C extends AnyContract> = TopicNames<Msgs<C['shared']>>
/** Events declared by one role itself (not shared). */
export type RoleEventName<C extends AnyContract, R extends RoleOf<C>> = EventNames<Msgs<C['roles'][R]>>
export type RoleTopicName<C extends AnyContract, R extends RoleOf<C>> = TopicNames<Msgs<C['roles'][R]>>

type Def<M, K> = K extends keyof M ? M[K] : never

/** What a handler receives (after validation) and what a caller passes. */
export type ProcedureInput<C extends AnyContract, R extends RoleOf<C>, P> = InferOut<Def<ProceduresOf<C, R>, P> extends ProcedureDef ? Def<ProceduresOf<C, R>, P>['input'] : never>
export type CallInput<C extends AnyContract, R extends RoleOf<C>, P> = InferIn<Def<ProceduresOf<C, R>, P> extends ProcedureDef ? Def<ProceduresOf<C, R>, P>['input'] : never>
/** What a handler returns and what the caller receives. */
export type HandlerOutput<C extends AnyContract, R extends RoleOf<C>, P> = InferIn<Def<ProceduresOf<C, R>, P> extends ProcedureDef ? Def<ProceduresOf<C, R>, P>['output'] : never>
export type CallOutput<C extends AnyContract, R extends RoleOf<C>, P> = InferOut<Def<ProceduresOf<C, R>, P> extends ProcedureDef ? Def<ProceduresOf<C, R>, P>['output'] : never>

/** Payload the server passes when sending a message (schema input). */
export type PayloadIn<M, K> = Def<M, K> extends EventDef | TopicDef ? InferIn<Def<M, K>['payload']> : never
/** Payload the client receives (schema output). */
export type PayloadOut<M, K> = Def<M, K> extends EventDef | TopicDef ? InferOut<Def<M, K>['payload']> : never
/** Params of a topic, or `undefined` for a topic without params. */
export type ParamsIn<M, K> = Def<M, K> extends { params: infer P } ? InferIn<P> : undefined
export type ParamsOut<M, K> = Def<M, K> extends { params: infer P } ? InferOut<P> : undefined

export type SharedMessages<C extends AnyContract> = Msgs<C['shared']>
export type RoleMessages<C extends AnyContract, R extends RoleOf<C>> = Msgs<C['roles'][R]>
export type SharedProcedures<C extends AnyContract> = Procs<C['shared']>
export type RoleProcedures<C extends AnyContract, R extends RoleOf<C>> = Procs<C['roles'][R]>
