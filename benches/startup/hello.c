/* Hello world: the start-up time benchmark (translated vs native). */
#include <stdio.h>

int main(void)
{
    puts("hello, world");
    return 0;
}
