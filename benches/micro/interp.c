/* A switch-dispatch bytecode interpreter (a stack machine running a loop
 * that computes a sum of a polynomial and a Fibonacci-style recurrence):
 * the jump table of a dispatch switch plus loads and stores of a virtual
 * stack, the pattern of every simple interpreter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum op { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, DUP, SWAP, JNZ, JMP, LT, DROP, XOR, SHR, HALT };

struct insn { uint8_t op; int32_t arg; };

static int64_t run(const struct insn *code, int64_t *vars)
{
    int64_t stack[64];
    int sp = 0;
    const struct insn *pc = code;
    for (;;) {
        const struct insn *i = pc++;
        switch (i->op) {
        case PUSH: stack[sp++] = i->arg; break;
        case LOAD: stack[sp++] = vars[i->arg]; break;
        case STORE: vars[i->arg] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case SWAP: { int64_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; } break;
        case JNZ: if (stack[--sp]) pc = code + i->arg; break;
        case JMP: pc = code + i->arg; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case DROP: sp--; break;
        case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case SHR: sp--; stack[sp - 1] >>= stack[sp]; break;
        case HALT: return stack[sp - 1];
        default: abort();
        }
    }
}

int main(int argc, char **argv)
{
    int32_t n = argc > 1 ? atoi(argv[1]) : 6000000;
    /* vars: 0 = i, 1 = acc, 2 = a, 3 = b, 4 = n */
    const struct insn prog[] = {
        /* 0 */ {LOAD, 0}, {LOAD, 0}, {MUL, 0}, {PUSH, 7}, {MUL, 0},  /* 7*i*i */
        /* 5 */ {LOAD, 0}, {PUSH, 3}, {MUL, 0}, {ADD, 0},             /* + 3*i */
        /* 9 */ {PUSH, 1000003}, {MOD, 0}, {LOAD, 1}, {XOR, 0}, {STORE, 1},
        /* 14 */ {LOAD, 2}, {LOAD, 3}, {ADD, 0}, {PUSH, 1000000007}, {MOD, 0},
        /* 19 */ {LOAD, 3}, {STORE, 2}, {STORE, 3},
        /* 22 */ {LOAD, 0}, {PUSH, 1}, {ADD, 0}, {DUP, 0}, {STORE, 0},
        /* 27 */ {LOAD, 4}, {LT, 0}, {JNZ, 0},
        /* 30 */ {LOAD, 1}, {LOAD, 3}, {PUSH, 2}, {SHR, 0}, {ADD, 0}, {HALT, 0},
    };
    int64_t vars[5] = {0, 0, 0, 1, n};
    int64_t r = run(prog, vars);
    printf("result %lld acc %lld fib %lld\n", (long long)r, (long long)vars[1],
           (long long)vars[3]);
    return 0;
}
