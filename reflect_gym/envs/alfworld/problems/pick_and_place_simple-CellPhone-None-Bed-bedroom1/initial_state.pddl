(define (problem plan_pick_and_place_simple-CellPhone-None-Bed-bedroom1)
(:domain alfred)
(:objects
agent1 - agent
        AlarmClockType - otype
        BookType - otype
        ButterKnifeType - otype
        CDType - otype
        CellPhoneType - otype
        CreditCardType - otype
        KeyChainType - otype
        KnifeType - otype
        PenType - otype
        PillowType - otype
        VaseType - otype
        BedType - rtype
        DeskType - rtype
        DrawerType - rtype
        DresserType - rtype
        FridgeType - rtype
        GarbageCanType - rtype
        MicrowaveType - rtype
        SafeType - rtype
        ShelfType - rtype
        SideTableType - rtype
        SinkBasinType - rtype
        Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 - object
        Book_bar__plus_08_dot_21_bar__plus_00_dot_90_bar__plus_07_dot_53 - object
        CreditCard_bar__plus_09_dot_24_bar__plus_00_dot_95_bar__plus_07_dot_96 - object
        Pen_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 - object
        CellPhone_bar__plus_09_dot_87_bar__plus_00_dot_90_bar__plus_08_dot_82 - object
        AlarmClock_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25 - object
        CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68 - object
        KeyChain_bar__plus_10_dot_87_bar__plus_00_dot_90_bar__plus_10_dot_11 - object
        Vase_bar__plus_10_dot_80_bar__plus_00_dot_95_bar__plus_10_dot_54 - object
        Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50 - receptacle
        Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07 - receptacle
        Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 - receptacle
        Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 - receptacle
        Dresser_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22 - receptacle
        GarbageCan_bar__plus_02_dot_95_bar__plus_01_dot_00_bar__plus_00_dot_65 - receptacle
        Shelf_bar__plus_02_dot_77_bar__plus_00_dot_90_bar__plus_01_dot_08 - receptacle
        SideTable_bar__plus_03_dot_58_bar__plus_00_dot_95_bar__plus_01_dot_51 - receptacle
        Safe_bar__plus_03_dot_40_bar__plus_01_dot_00_bar__plus_01_dot_94 - receptacle
        loc_bar_0_bar_6_bar_3_bar__minus_15 - location
        loc_bar_0_bar__minus_4_bar_0_bar__minus_30 - location
        loc_bar_1_bar__minus_1_bar_1_bar__minus_15 - location
        loc_bar_1_bar__minus_2_bar_0_bar_0 - location
        loc_bar_2_bar_2_bar_2_bar_0 - location
        loc_bar_3_bar_5_bar_3_bar_15 - location
        loc_bar_4_bar__minus_3_bar_0_bar_30 - location
        loc_bar_5_bar_0_bar_1_bar_45 - location
        loc_bar_6_bar_3_bar_2_bar__minus_30 - location
        loc_bar__minus_1_bar_5_bar_0_bar_30 - location
        )

(:init

        (receptacleType Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50 BedType)
        (receptacleType Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07 DeskType)
        (receptacleType Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 DrawerType)
        (receptacleType Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 DrawerType)
        (receptacleType Dresser_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22 DresserType)
        (receptacleType GarbageCan_bar__plus_02_dot_95_bar__plus_01_dot_00_bar__plus_00_dot_65 GarbageCanType)
        (receptacleType Shelf_bar__plus_02_dot_77_bar__plus_00_dot_90_bar__plus_01_dot_08 ShelfType)
        (receptacleType SideTable_bar__plus_03_dot_58_bar__plus_00_dot_95_bar__plus_01_dot_51 SideTableType)
        (receptacleType Safe_bar__plus_03_dot_40_bar__plus_01_dot_00_bar__plus_01_dot_94 SafeType)
        (objectType Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 PillowType)
        (objectType Book_bar__plus_08_dot_21_bar__plus_00_dot_90_bar__plus_07_dot_53 BookType)
        (objectType CreditCard_bar__plus_09_dot_24_bar__plus_00_dot_95_bar__plus_07_dot_96 CreditCardType)
        (objectType Pen_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 PenType)
        (objectType CellPhone_bar__plus_09_dot_87_bar__plus_00_dot_90_bar__plus_08_dot_82 CellPhoneType)
        (objectType AlarmClock_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25 AlarmClockType)
        (objectType CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68 CDType)
        (objectType KeyChain_bar__plus_10_dot_87_bar__plus_00_dot_90_bar__plus_10_dot_11 KeyChainType)
        (objectType Vase_bar__plus_10_dot_80_bar__plus_00_dot_95_bar__plus_10_dot_54 VaseType)
        (canContain BedType BookType)
        (canContain BedType CellPhoneType)
        (canContain BedType PillowType)
        (canContain DeskType AlarmClockType)
        (canContain DeskType BookType)
        (canContain DeskType CDType)
        (canContain DeskType CellPhoneType)
        (canContain DeskType CreditCardType)
        (canContain DeskType KeyChainType)
        (canContain DeskType PenType)
        (canContain DeskType VaseType)
        (canContain DrawerType BookType)
        (canContain DrawerType CDType)
        (canContain DrawerType CellPhoneType)
        (canContain DrawerType CreditCardType)
        (canContain DrawerType KeyChainType)
        (canContain DrawerType PenType)
        (canContain DresserType AlarmClockType)
        (canContain DresserType BookType)
        (canContain DresserType CDType)
        (canContain DresserType CellPhoneType)
        (canContain DresserType CreditCardType)
        (canContain DresserType KeyChainType)
        (canContain DresserType PenType)
        (canContain DresserType VaseType)
        (canContain GarbageCanType CDType)
        (canContain GarbageCanType PenType)
        (canContain SafeType CDType)
        (canContain SafeType CellPhoneType)
        (canContain SafeType CreditCardType)
        (canContain SafeType KeyChainType)
        (canContain SafeType VaseType)
        (canContain ShelfType AlarmClockType)
        (canContain ShelfType BookType)
        (canContain ShelfType CDType)
        (canContain ShelfType CellPhoneType)
        (canContain ShelfType CreditCardType)
        (canContain ShelfType KeyChainType)
        (canContain ShelfType PenType)
        (canContain ShelfType VaseType)
        (canContain SideTableType AlarmClockType)
        (canContain SideTableType BookType)
        (canContain SideTableType CDType)
        (canContain SideTableType CellPhoneType)
        (canContain SideTableType CreditCardType)
        (canContain SideTableType KeyChainType)
        (canContain SideTableType PenType)
        (canContain SideTableType VaseType)
        (pickupable Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (pickupable Book_bar__plus_08_dot_21_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (pickupable CreditCard_bar__plus_09_dot_24_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (pickupable Pen_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (pickupable CellPhone_bar__plus_09_dot_87_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (pickupable AlarmClock_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (pickupable CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (pickupable KeyChain_bar__plus_10_dot_87_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (pickupable Vase_bar__plus_10_dot_80_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (openable Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (openable Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (openable Safe_bar__plus_03_dot_40_bar__plus_01_dot_00_bar__plus_01_dot_94)
        (atLocation agent1 loc_bar__minus_1_bar_5_bar_0_bar_30)
        (inReceptacle Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle Book_bar__plus_08_dot_21_bar__plus_00_dot_90_bar__plus_07_dot_53 Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle CreditCard_bar__plus_09_dot_24_bar__plus_00_dot_95_bar__plus_07_dot_96 Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle Pen_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (inReceptacle CellPhone_bar__plus_09_dot_87_bar__plus_00_dot_90_bar__plus_08_dot_82 Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (inReceptacle AlarmClock_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25 Dresser_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (inReceptacle CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68 Safe_bar__plus_03_dot_40_bar__plus_01_dot_00_bar__plus_01_dot_94)
        (inReceptacle KeyChain_bar__plus_10_dot_87_bar__plus_00_dot_90_bar__plus_10_dot_11 SideTable_bar__plus_03_dot_58_bar__plus_00_dot_95_bar__plus_01_dot_51)
        (inReceptacle Vase_bar__plus_10_dot_80_bar__plus_00_dot_95_bar__plus_10_dot_54 Shelf_bar__plus_02_dot_77_bar__plus_00_dot_90_bar__plus_01_dot_08)
        (receptacleAtLocation Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (receptacleAtLocation Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (receptacleAtLocation Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 loc_bar_2_bar_2_bar_2_bar_0)
        (receptacleAtLocation Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 loc_bar_3_bar_5_bar_3_bar_15)
        (receptacleAtLocation Dresser_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (receptacleAtLocation GarbageCan_bar__plus_02_dot_95_bar__plus_01_dot_00_bar__plus_00_dot_65 loc_bar_5_bar_0_bar_1_bar_45)
        (receptacleAtLocation Shelf_bar__plus_02_dot_77_bar__plus_00_dot_90_bar__plus_01_dot_08 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (receptacleAtLocation SideTable_bar__plus_03_dot_58_bar__plus_00_dot_95_bar__plus_01_dot_51 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (receptacleAtLocation Safe_bar__plus_03_dot_40_bar__plus_01_dot_00_bar__plus_01_dot_94 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (objectAtLocation Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation Book_bar__plus_08_dot_21_bar__plus_00_dot_90_bar__plus_07_dot_53 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation CreditCard_bar__plus_09_dot_24_bar__plus_00_dot_95_bar__plus_07_dot_96 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation Pen_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 loc_bar_2_bar_2_bar_2_bar_0)
        (objectAtLocation CellPhone_bar__plus_09_dot_87_bar__plus_00_dot_90_bar__plus_08_dot_82 loc_bar_3_bar_5_bar_3_bar_15)
        (objectAtLocation AlarmClock_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (objectAtLocation CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (objectAtLocation KeyChain_bar__plus_10_dot_87_bar__plus_00_dot_90_bar__plus_10_dot_11 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (objectAtLocation Vase_bar__plus_10_dot_80_bar__plus_00_dot_95_bar__plus_10_dot_54 loc_bar_6_bar_3_bar_2_bar__minus_30)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (inReceptacle ?o ?r)
                            (objectType ?o CellPhoneType)
                            (receptacleType ?r BedType)
                        )
                    )
                )
            )
        )
    )
